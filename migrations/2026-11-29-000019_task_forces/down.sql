DROP TABLE task_force_enterprises;
DROP TABLE task_force_officers;
DROP TABLE task_force_departments;
DROP TABLE task_forces;
