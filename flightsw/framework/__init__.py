"""The app model: what an app is written against and what the executive hands it.

An app's declarations (``app``: commands, telemetry, events, parameters, reports; ``ports``:
devices, bus messages, executive services; ``layouts`` and ``datatypes``: their wire
formats), the context it runs in (``context``: its own TM through ``tm_funnel``, its own
parameters, TC verification through ``verification``), the software bus (``bus``,
``msgids``), the executive's services an app may declare (``exec_services``), tables
(``tables``), the monitoring engine's checks (``checks``) and the load-time check of the
names an app uses (``name_check``). It imports no service and no app."""
