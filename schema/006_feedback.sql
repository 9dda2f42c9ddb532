-- onthedot schema, version 6: moderating customers' feedback, and the
-- public trust figures.
--
-- The customer's words (feedback.comment, in 001) are never changed by a
-- moderator: they stay as evidence. What the public sees is
-- published_comment: the comment as given (published) or with personal
-- data or abuse removed (redacted); NULL while pending or withheld.

ALTER TABLE feedback ADD COLUMN published_comment TEXT
  CHECK (published_comment IS NULL OR length(published_comment) <= 2000);
-- The last moderation: when, by whom, and the moderator's reason.
ALTER TABLE feedback ADD COLUMN moderated_at INTEGER;
ALTER TABLE feedback ADD COLUMN moderated_by INTEGER REFERENCES users(id);
ALTER TABLE feedback ADD COLUMN moderation_reason TEXT
  CHECK (moderation_reason IS NULL OR length(moderation_reason) <= 300);
-- When the customer last changed it (they may, while it is pending).
ALTER TABLE feedback ADD COLUMN updated_at INTEGER;
UPDATE feedback SET updated_at = created_at;
UPDATE feedback SET published_comment = comment WHERE moderation IN ('published', 'redacted');

-- The moderation queue (by state, oldest first) and the latest published.
CREATE INDEX feedback_moderation ON feedback(moderation, id);
CREATE INDEX feedback_created ON feedback(created_at);

-- The trust figures count promises by the end of their window, and
-- messages about a delay by the time they were queued.
CREATE INDEX appointments_window_end ON appointments(window_end);
CREATE INDEX outbox_template ON outbox(template, created_at);
CREATE INDEX guarantee_cases_paid ON guarantee_cases(paid_at) WHERE state = 'paid';
