"""What the window and the command line share above loading: the session state, the
comparison of two captures, the window's worker pipeline.  No Qt."""
