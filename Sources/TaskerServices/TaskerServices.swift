// The orchestration services (issue 4).
