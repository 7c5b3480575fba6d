/// Shared helpers for tests.
public enum TestSupport {}
