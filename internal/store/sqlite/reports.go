package sqlite

// reportsSchema is the migration step for abuse reports (XEP-0377). No
// foreign key to users: a report outlives the accounts it names.
const reportsSchema = `
CREATE TABLE abuse_reports (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	stamp      INTEGER NOT NULL, -- Unix nanoseconds
	reporter   TEXT NOT NULL,
	reported   TEXT NOT NULL,
	reason     TEXT NOT NULL,
	text       TEXT NOT NULL,
	stanza_ids TEXT NOT NULL -- JSON array of {"by","id"}
);
CREATE INDEX abuse_reports_reporter ON abuse_reports (reporter, stamp);
`
