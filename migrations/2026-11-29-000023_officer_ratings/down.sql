ALTER TABLE monthly_officer_figures
    DROP COLUMN enterprise_ratings,
    DROP COLUMN enterprise_presence_sum,
    DROP COLUMN enterprise_responsiveness_sum,
    DROP COLUMN enterprise_help_sum;
DROP TABLE officer_ratings;
