"""What the tests share and what they run in processes of their own: helpers and data (fixtures), the
Spark Connect server and standalone cluster launchers, and the job scripts."""
