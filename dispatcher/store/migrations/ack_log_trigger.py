"""The trigger that logs each new ack (revision 0007), shared by the revisions that create
it: rebuilding the acks table on SQLite (revision 0008) drops its triggers with it."""

from __future__ import annotations

# A row trigger: SQLite has no other kind, and its body runs in C within the INSERT.
SQLITE_TRIGGER = """
CREATE TRIGGER acks_logged AFTER INSERT ON acks
BEGIN
    INSERT INTO dispatch_log (alert_id, task_id, target, event, detail, at, dedup_key)
    VALUES (NEW.alert_id, NULL, NEW.target, 'ack.' || NEW.state,
            json_set(NEW.detail, '$.state', NEW.state), NEW.at, NULL);
END"""

# A statement trigger over the rows the statement inserted: one set-based INSERT per batch.
POSTGRES_FUNCTION = """
CREATE FUNCTION ebc_log_new_acks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dispatch_log (alert_id, task_id, target, event, detail, at, dedup_key)
    SELECT alert_id, NULL, target, 'ack.' || state,
           (CAST(detail AS jsonb) || jsonb_build_object('state', state))::json, at, NULL
    FROM new_acks ORDER BY alert_id, target, state;
    RETURN NULL;
END
$$"""
POSTGRES_TRIGGER = """
CREATE TRIGGER acks_logged AFTER INSERT ON acks REFERENCING NEW TABLE AS new_acks
FOR EACH STATEMENT EXECUTE FUNCTION ebc_log_new_acks()"""
