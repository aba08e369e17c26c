DROP TABLE console_uploads;
