DROP TABLE policy_checkoff_events;
DROP TABLE policy_checkoffs;
