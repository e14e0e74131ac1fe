"""One grading: a submission through the trusted pytest process, with the plugin that turns tests into results."""
