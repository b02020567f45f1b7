"""Assets: uploads taken in and typed by content, zip bundles inspected, files scanned by clamd."""
