"""One pupil as a subject access request sees them: who can see them now, and who received them."""
