# Rewrites the old module paths of flightsw to the layout of branch layout2 (services and
# apps in folders, framework/, runtime/, cli/, shims dropped). For a branch made before it:
#   (merge layout2 first: git follows the renames; then run this over the result)
#   sed -E -i -f tools/moved_modules.sed $(git ls-files '*.py' '*.md' '*.toml')
#   ruff check --fix --select I .
# Mission paths (flightsw.services.comms:CommsService) are left alone: they still resolve.
s/^(\s*)from flightsw\.services\.comms import mission_link_security$/\1from flightsw.runtime.mission import mission_link_security/
s/\bexec_services\.provide\(/service_handles.provide(/g
s/flightsw\.services\.parameters\.(ParameterEntry|ParameterMemory|ParameterStore|OwnParameters)\b/flightsw.framework.parameters.\1/g
s/flightsw\.services\.events\.(EventRecord|EventReporter)\b/flightsw.framework.events.\1/g
s/^(\s*)from flightsw\.services\.events import (EventRecord, EventReporter|EventRecord|EventReporter)$/\1from flightsw.framework.events import \2/
s/^(\s*)from flightsw\.services\.parameters import ((ParameterEntry|ParameterMemory|ParameterStore|OwnParameters)(, (ParameterEntry|ParameterMemory|ParameterStore|OwnParameters))*)$/\1from flightsw.framework.parameters import \2/
s/^(\s*)from flightsw\.services import (event_action|monitoring|tables|sequencer|scheduling|comms|relay|files|storage|housekeeping|events|parameters)$/\1from flightsw.services.\2 import app as \2/
s/^(\s*)from flightsw\.services import (verification|tm_funnel|id_list)$/\1from flightsw.framework import \2/
s/(^|[^.A-Za-z0-9_])flightsw\.services\.executive_app($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.executive_app.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.event_action($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.event_action.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.housekeeping($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.housekeeping.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.test_service($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.test_service.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.verification($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.verification\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.time_report($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.time_report.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.monitoring($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.monitoring.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.parameters($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.parameters.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.scheduling($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.scheduling.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.sequencer($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.sequencer.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.tm_funnel($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.tm_funnel\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.apps\.device_guard($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.apps.shared.device_guard\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.storage($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.storage.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.id_list($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.id_list\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.apps\.sensor_vote($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.apps.shared.sensor_vote\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.events($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.events.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.tables($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.tables.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.workload_schema($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.runtime.workload_schema\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.sequence_format($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.packets.sequence\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.comms($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.comms.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.files($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.files.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.services\.relay($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.services.relay.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.exec_services($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.exec_services\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.apps\.messages($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.apps.shared.messages\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.name_check($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.name_check\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.dispatcher($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.runtime.dispatcher\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.dictionary($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.runtime.dictionary\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.file_store($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.store.files\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.packet_cli($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.cli.packet\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.datatypes($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.datatypes\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.executive($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.runtime.executive\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.schedule($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.runtime.schedule\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.progress($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.sil.progress\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.context($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.context\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.layouts($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.layouts\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.mission($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.runtime.mission\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.msgids($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.msgids\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.tables($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.tables\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.checks($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.checks\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.voting($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.store.voting\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.errors($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.base.errors\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.schema($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.base.schema\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.ports($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.ports\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.app($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.app\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.bus($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.framework.bus\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.cli($|[^.:`"A-Za-z0-9_]|\.[A-Z])/\1flightsw.cli.main\2/g
s/(^|[^.A-Za-z0-9_])flightsw\.crc($|[^.:A-Za-z0-9_]|\.[A-Z])/\1flightsw.base.crc\2/g
s#(^|[^/A-Za-z0-9_])flightsw/services/executive_app\.py#\1flightsw/services/executive_app/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/event_action\.py#\1flightsw/services/event_action/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/housekeeping\.py#\1flightsw/services/housekeeping/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/test_service\.py#\1flightsw/services/test_service/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/verification\.py#\1flightsw/framework/verification.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/time_report\.py#\1flightsw/services/time_report/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/monitoring\.py#\1flightsw/services/monitoring/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/parameters\.py#\1flightsw/services/parameters/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/scheduling\.py#\1flightsw/services/scheduling/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/sequencer\.py#\1flightsw/services/sequencer/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/tm_funnel\.py#\1flightsw/framework/tm_funnel.py#g
s#(^|[^/A-Za-z0-9_])flightsw/apps/device_guard\.py#\1flightsw/apps/shared/device_guard.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/storage\.py#\1flightsw/services/storage/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/id_list\.py#\1flightsw/framework/id_list.py#g
s#(^|[^/A-Za-z0-9_])flightsw/apps/sensor_vote\.py#\1flightsw/apps/shared/sensor_vote.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/events\.py#\1flightsw/services/events/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/tables\.py#\1flightsw/services/tables/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/workload_schema\.py#\1flightsw/runtime/workload_schema.py#g
s#(^|[^/A-Za-z0-9_])flightsw/sequence_format\.py#\1flightsw/packets/sequence.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/comms\.py#\1flightsw/services/comms/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/files\.py#\1flightsw/services/files/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/services/relay\.py#\1flightsw/services/relay/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/exec_services\.py#\1flightsw/framework/exec_services.py#g
s#(^|[^/A-Za-z0-9_])flightsw/apps/messages\.py#\1flightsw/apps/shared/messages.py#g
s#(^|[^/A-Za-z0-9_])flightsw/name_check\.py#\1flightsw/framework/name_check.py#g
s#(^|[^/A-Za-z0-9_])flightsw/dispatcher\.py#\1flightsw/runtime/dispatcher.py#g
s#(^|[^/A-Za-z0-9_])flightsw/dictionary\.py#\1flightsw/runtime/dictionary.py#g
s#(^|[^/A-Za-z0-9_])flightsw/file_store\.py#\1flightsw/store/files.py#g
s#(^|[^/A-Za-z0-9_])flightsw/packet_cli\.py#\1flightsw/cli/packet.py#g
s#(^|[^/A-Za-z0-9_])flightsw/datatypes\.py#\1flightsw/framework/datatypes.py#g
s#(^|[^/A-Za-z0-9_])flightsw/executive\.py#\1flightsw/runtime/executive.py#g
s#(^|[^/A-Za-z0-9_])flightsw/schedule\.py#\1flightsw/runtime/schedule.py#g
s#(^|[^/A-Za-z0-9_])flightsw/progress\.py#\1flightsw/sil/progress.py#g
s#(^|[^/A-Za-z0-9_])flightsw/context\.py#\1flightsw/framework/context.py#g
s#(^|[^/A-Za-z0-9_])flightsw/layouts\.py#\1flightsw/framework/layouts.py#g
s#(^|[^/A-Za-z0-9_])flightsw/mission\.py#\1flightsw/runtime/mission.py#g
s#(^|[^/A-Za-z0-9_])flightsw/msgids\.py#\1flightsw/framework/msgids.py#g
s#(^|[^/A-Za-z0-9_])flightsw/tables\.py#\1flightsw/framework/tables.py#g
s#(^|[^/A-Za-z0-9_])flightsw/checks\.py#\1flightsw/framework/checks.py#g
s#(^|[^/A-Za-z0-9_])flightsw/voting\.py#\1flightsw/store/voting.py#g
s#(^|[^/A-Za-z0-9_])flightsw/errors\.py#\1flightsw/base/errors.py#g
s#(^|[^/A-Za-z0-9_])flightsw/schema\.py#\1flightsw/base/schema.py#g
s#(^|[^/A-Za-z0-9_])flightsw/ports\.py#\1flightsw/framework/ports.py#g
s#(^|[^/A-Za-z0-9_])flightsw/app\.py#\1flightsw/framework/app.py#g
s#(^|[^/A-Za-z0-9_])flightsw/bus\.py#\1flightsw/framework/bus.py#g
s#(^|[^/A-Za-z0-9_])flightsw/cli\.py#\1flightsw/cli/main.py#g
s#(^|[^/A-Za-z0-9_])flightsw/crc\.py#\1flightsw/base/crc.py#g
s/"-m", "flightsw\.cli\.main"/"-m", "flightsw.cli"/g
s/^flightsw = "flightsw\.cli:main"$/flightsw = "flightsw.cli.main:main"/
s#(^|[^/A-Za-z0-9_])tests/services/test_comms_packet_link\.py#\1tests/services/comms/test_packet_link.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_comms_security\.py#\1tests/services/comms/test_security.py#g
s#(^|[^/A-Za-z0-9_])tests/services/scheduling_support\.py#\1tests/support/light_node.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_event_action\.py#\1tests/services/event_action/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_housekeeping\.py#\1tests/services/housekeeping/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_verification\.py#\1tests/framework/test_verification.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_monitoring\.py#\1tests/services/monitoring/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_parameters\.py#\1tests/services/parameters/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_scheduling\.py#\1tests/services/scheduling/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_files_cfdp\.py#\1tests/services/files/test_cfdp.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_sequencer\.py#\1tests/services/sequencer/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_comms_udp\.py#\1tests/services/comms/test_udp.py#g
s#(^|[^/A-Za-z0-9_])tests/test_executive_restarts\.py#\1tests/runtime/test_executive_restarts.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_storage\.py#\1tests/services/storage/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/apps/test_sensor_vote\.py#\1tests/apps/shared/test_sensor_vote.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_events\.py#\1tests/services/events/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_tables\.py#\1tests/services/tables/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/test_executive_skips\.py#\1tests/runtime/test_executive_skips.py#g
s#(^|[^/A-Za-z0-9_])tests/test_workload_schema\.py#\1tests/runtime/test_workload_schema.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_files\.py#\1tests/services/files/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_relay\.py#\1tests/services/relay/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_comms\.py#\1tests/services/comms/test_app.py#g
s#(^|[^/A-Za-z0-9_])tests/test_exec_services\.py#\1tests/framework/test_exec_services.py#g
s#(^|[^/A-Za-z0-9_])tests/test_dispatcher\.py#\1tests/runtime/test_dispatcher.py#g
s#(^|[^/A-Za-z0-9_])tests/test_packet_cli\.py#\1tests/cli/test_packet.py#g
s#(^|[^/A-Za-z0-9_])tests/test_executive\.py#\1tests/runtime/test_executive.py#g
s#(^|[^/A-Za-z0-9_])tests/test_schedule\.py#\1tests/runtime/test_schedule.py#g
s#(^|[^/A-Za-z0-9_])tests/test_layouts\.py#\1tests/framework/test_layouts.py#g
s#(^|[^/A-Za-z0-9_])tests/test_mission\.py#\1tests/runtime/test_mission.py#g
s#(^|[^/A-Za-z0-9_])tests/test_checks\.py#\1tests/framework/test_checks.py#g
s#(^|[^/A-Za-z0-9_])tests/test_tables\.py#\1tests/framework/test_tables.py#g
s#(^|[^/A-Za-z0-9_])tests/test_voting\.py#\1tests/store/test_voting.py#g
s#(^|[^/A-Za-z0-9_])tests/test_schema\.py#\1tests/base/test_schema.py#g
s#(^|[^/A-Za-z0-9_])tests/test_ports\.py#\1tests/framework/test_ports.py#g
s#(^|[^/A-Za-z0-9_])tests/test_bus\.py#\1tests/framework/test_bus.py#g
s#(^|[^/A-Za-z0-9_])tests/test_cli\.py#\1tests/cli/test_main.py#g
s#(^|[^/A-Za-z0-9_])tests/test_crc\.py#\1tests/base/test_crc.py#g
s#(^|[^/A-Za-z0-9_])tests/services/test_time_and_test_services\.py#\1tests/services/test_service/test_app.py#g
s/^(\s*)from flightsw import ((msgids|layouts|exec_services)(, (msgids|layouts|exec_services))*)( as \w+)?$/\1from flightsw.framework import \2\6/
s/^(\s*)from flightsw import packet_cli$/\1from flightsw.cli import packet as packet_cli/
s/^(\s*)from flightsw import cli$/\1from flightsw.cli import main as cli/
s/(^|[^.A-Za-z0-9_])from flightsw\.services\.([a-z_]+)\.app import app as /\1from flightsw.services.\2 import app as /
s/(^|[^.A-Za-z0-9_])from flightsw\.cli\.main import (main|packet) as /\1from flightsw.cli import \2 as /
