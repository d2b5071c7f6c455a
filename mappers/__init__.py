"""Pure policy: name matching, class names, parents, the group layout. No I/O here."""
