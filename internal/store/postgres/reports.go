package postgres

// reportsSchema is the migration step for abuse reports (XEP-0377). No
// foreign key to users: a report outlives the accounts it names.
const reportsSchema = `
CREATE TABLE abuse_reports (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	stamp      timestamptz NOT NULL,
	reporter   text COLLATE "C" NOT NULL,
	reported   text COLLATE "C" NOT NULL,
	reason     text NOT NULL,
	text       text NOT NULL,
	stanza_ids jsonb NOT NULL -- array of {"by","id"}
);
CREATE INDEX abuse_reports_reporter ON abuse_reports (reporter, stamp);
`
