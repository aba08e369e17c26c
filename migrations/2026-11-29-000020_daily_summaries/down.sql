DROP TABLE daily_summaries;
