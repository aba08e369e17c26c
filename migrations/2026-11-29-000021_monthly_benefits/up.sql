-- 惠企成效 in the monthly report: each officer's month keeps the benefits stated by the answers
-- to the problems they raised (months frozen before this migration show none).
ALTER TABLE monthly_officer_figures
    ADD COLUMN benefit_problems          INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN benefit_loan_yuan         BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN benefit_fees_reduced_yuan BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN benefit_subsidies_yuan    BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN benefit_positions_filled  BIGINT  NOT NULL DEFAULT 0,
    ADD COLUMN benefit_with_other        INTEGER NOT NULL DEFAULT 0;
