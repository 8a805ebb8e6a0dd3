"""Local infrastructure nodes (Kafka broker, PostgreSQL) for `laowu up` and tests.

These modules only prepare data directories, build command lines and check
health; running/restarting the processes is the supervisor's job.
"""
