-- Staff security (U1): two-factor sign-in, recovery codes, admin-issued password
-- resets, and the settings store ("staff.require_two_factor" is its first key).

-- The base32 TOTP secret once two-factor is on; totp_last_step is the last time
-- step a code was accepted for, so no code works twice.
ALTER TABLE staff_users ADD COLUMN totp_secret TEXT;
ALTER TABLE staff_users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
-- A secret being set up from the account page, until a code confirms it.
ALTER TABLE staff_users ADD COLUMN totp_pending_secret TEXT;

-- Ten per user, shown once, stored hashed; each works once.
CREATE TABLE staff_recovery_codes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX staff_recovery_codes_user ON staff_recovery_codes(user_id);

-- The second step of a sign-in: the password was right, a code is still owed
-- ("two_factor"), or two-factor must be set up first ("enrol", with the new
-- secret). Short-lived, limited attempts, consumed by the step that completes it.
CREATE TABLE staff_challenges (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
  purpose TEXT NOT NULL CHECK (purpose IN ('two_factor', 'enrol')),
  secret TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX staff_challenges_user ON staff_challenges(user_id);

-- One-time password reset links an admin issues; the newest one per user is the
-- only valid one (issuing replaces).
CREATE TABLE staff_password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL UNIQUE REFERENCES staff_users(id) ON DELETE CASCADE,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
