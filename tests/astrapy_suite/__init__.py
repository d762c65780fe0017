"""The Data API through astrapy, DataStax's own client: the embedded server, a real Data API, Astra."""
