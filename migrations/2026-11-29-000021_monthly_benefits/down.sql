ALTER TABLE monthly_officer_figures
    DROP COLUMN benefit_problems,
    DROP COLUMN benefit_loan_yuan,
    DROP COLUMN benefit_fees_reduced_yuan,
    DROP COLUMN benefit_subsidies_yuan,
    DROP COLUMN benefit_positions_filled,
    DROP COLUMN benefit_with_other;
