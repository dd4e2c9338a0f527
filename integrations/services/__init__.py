"""Write side of the connector (HackSoft style: services write, selectors read)."""
