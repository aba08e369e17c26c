-- 惠企成效: what a department's response (or an officer's on-site resolution) was worth to the
-- enterprise, in whole yuan and positions, summed on dashboards, ledgers and reports. NULL: not
-- stated. A later response (after a reopening) states them again.
ALTER TABLE problems
    ADD COLUMN benefit_loan_yuan BIGINT CONSTRAINT problems_benefit_loan_range CHECK (benefit_loan_yuan BETWEEN 0 AND 10000000000000),
    ADD COLUMN benefit_fees_reduced_yuan BIGINT CONSTRAINT problems_benefit_fees_range CHECK (benefit_fees_reduced_yuan BETWEEN 0 AND 10000000000000),
    ADD COLUMN benefit_subsidies_yuan BIGINT CONSTRAINT problems_benefit_subsidies_range CHECK (benefit_subsidies_yuan BETWEEN 0 AND 10000000000000),
    ADD COLUMN benefit_positions_filled INTEGER CONSTRAINT problems_benefit_positions_range CHECK (benefit_positions_filled BETWEEN 0 AND 1000000),
    ADD COLUMN benefit_other TEXT;
