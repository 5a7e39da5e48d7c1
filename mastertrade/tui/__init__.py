"""The live dashboard (``mt tui``): a Textual app that attaches to the daemon over its socket.

- :mod:`.backend`: the ``Backend`` protocol, every call the dashboard makes on the daemon: the
  methods of ``DaemonClient`` (which ``mt tui`` hands the app), with the API's schemas; tests and
  benchmarks hand the app a fake with the same methods.
- :mod:`.state`: what the dashboard knows (bounded buffers: memory stays flat over hours), fed by the
  event stream and by periodic snapshots. :mod:`.feed` runs the connection: snapshots, the event
  stream, reconnection.
- :mod:`.app`: the App and its screens map; :mod:`.screens`, :mod:`.widgets`, :mod:`.messages`. The
  screens post messages that the app handles; they never import the app.

Nothing here is imported by the engine; the CLI imports it only inside ``mt tui``.
"""
