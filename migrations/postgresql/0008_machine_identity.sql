-- Re-enrolment: the machine's stable identity (machine-id / SMBIOS UUID) and serial
-- from its inventory, so the same machine enrolling again takes over its endpoint
-- instead of becoming a second billable one; replaced_by points a retired endpoint
-- at the one that took its place in another client.
ALTER TABLE endpoints ADD COLUMN machine_id TEXT;
ALTER TABLE endpoints ADD COLUMN serial TEXT;
ALTER TABLE endpoints ADD COLUMN replaced_by BIGINT;
CREATE INDEX endpoints_machine ON endpoints(machine_id);
