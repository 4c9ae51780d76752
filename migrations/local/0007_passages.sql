-- The venue's passages as this station knows them (issue 18): its own passing check-ins,
-- residents' phone check-ins, and passages relayed by the server or heard from the venue's other
-- stations on the LAN, one row per check-in id (a grow-only set: a second copy is ignored).
-- `seq` numbers them in the order this station learned them: a peer on the LAN asks for what
-- was learned after its mark. Who is inside is computed from this table (core `presence`).
CREATE TABLE passages (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    venue_id       TEXT NOT NULL,
    subject        TEXT NOT NULL,
    checkpoint_id  TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
    at             TEXT NOT NULL,
    -- own | phone | relay | lan
    source         TEXT NOT NULL
);
CREATE INDEX passages_window ON passages (venue_id, at, subject, checkpoint_id, direction);
CREATE INDEX passages_subject ON passages (venue_id, subject, at);

INSERT INTO passages (id, venue_id, subject, checkpoint_id, direction, at, source)
SELECT id, venue_id, subject, checkpoint_id, direction, at,
       CASE WHEN inspector = 'self' THEN 'phone' ELSE 'own' END
FROM check_ins
WHERE verdict = 'pass' AND subject IS NOT NULL AND direction IN ('entry', 'exit')
ORDER BY at;

-- Presence reads the passages now, not the check-ins.
DROP INDEX check_ins_presence;

-- What this station last received from each peer on the LAN: the peer's log identity and the
-- number reached in it.
CREATE TABLE lan_marks (
    peer      TEXT PRIMARY KEY,
    epoch     TEXT NOT NULL,
    upto      INTEGER NOT NULL,
    heard_at  TEXT NOT NULL
);
