"""What profview writes: the report (text and JSON), the comparison as text, the HTML page.
No Qt."""
