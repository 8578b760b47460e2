// Reference handlers (issue 4).
