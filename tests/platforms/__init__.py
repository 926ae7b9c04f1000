"""Local stand-ins for each platform's API: one module per platform id, each with SERVER
(a PlatformServer subclass) and good_values() (a valid credential for that server)."""
