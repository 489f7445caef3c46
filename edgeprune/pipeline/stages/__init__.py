"""The pipeline's stage families, one module each: every module builds its Stage objects and does their work."""
