// The worker runtime (issue 4).
