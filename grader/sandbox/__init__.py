"""The sandbox boundary: launching a confined worker, the server inside it, the data-only wire, and the proxy tests call."""
