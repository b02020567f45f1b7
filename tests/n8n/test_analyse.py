"""Analysis: types, triggers, credentials, services, AI components, risk flags and the graph."""

from __future__ import annotations

import json

import pytest

from app.n8n import analyse, parse_workflow
from app.n8n.analyse import trigger_kind
from app.n8n.catalog import TABLE, describe, humanise, roles
from tests.n8n.helpers import document, load, node


def workflow_of(*types: str, connections: dict | None = None):
    nodes = [node(f"N{i}", node_type, (i * 200, 0)) for i, node_type in enumerate(types)]
    return parse_workflow(document(nodes, connections))


def test_editor_download_summary():
    analysis = analyse(load("editor_download.json"))
    assert (analysis.name, analysis.node_count, analysis.sticky_count) == (
        'Order sync <shop> & "paid" orders',
        5,
        1,
    )
    assert analysis.connection_count == 4
    assert analysis.credentials == ["googleSheetsOAuth2Api", "httpHeaderAuth", "slackApi"]
    assert analysis.services == ["Google Sheets", "Slack"]
    assert analysis.triggers == [
        {
            "node": "Order Webhook",
            "type": "n8n-nodes-base.webhook",
            "kind": "webhook",
            "disabled": False,
        }
    ]
    # The webhook asks for header auth: no risk flag.
    assert analysis.risk_flags == []
    assert analysis.graph["order"] == [
        "Order Webhook",
        "Paid?",
        "Mark paid",
        "Log unpaid",
        "Notify Slack",
    ]
    assert analysis.complexity["branches"] == 1 and analysis.complexity["loops"] == 0
    assert json.loads(json.dumps(analysis.to_dict())) == analysis.to_dict()


def test_node_types_have_display_names_and_categories():
    rows = {row["type"]: row for row in analyse(load("editor_download.json")).node_types}
    assert rows["n8n-nodes-base.if"] == {
        "type": "n8n-nodes-base.if",
        "display_name": "If",
        "category": "flow",
        "service": None,
        "community": False,
        "count": 1,
    }
    assert rows["n8n-nodes-base.set"]["display_name"] == "Edit Fields (Set)"
    assert rows["n8n-nodes-base.webhook"]["category"] == "trigger"
    assert rows["n8n-nodes-base.slack"]["category"] == "messaging"


def test_the_table_covers_the_common_types():
    assert len(TABLE) >= 150
    for type_id, (display, category, _service) in TABLE.items():
        assert display and category, type_id


@pytest.mark.parametrize(
    ("type_id", "display", "category", "community"),
    [
        ("n8n-nodes-base.gmailTool", "Gmail Tool", "messaging", False),
        ("n8n-nodes-base.googleSheetsTrigger", "Google Sheets Trigger", "trigger", False),
        ("n8n-nodes-base.acmeCrm", "Acme Crm", "app", False),
        ("n8n-nodes-base.mySqlTool", "MySQL Tool", "database", False),
        ("@n8n/n8n-nodes-langchain.lmChatFancyAi", "Lm Chat Fancy Ai", "ai", False),
        ("n8n-nodes-brightdata.brightData", "Bright Data", "app", True),
        ("@custom-js/n8n-nodes-pdf.htmlToPdf", "Html To Pdf", "files", True),
        ("../../etc/passwd", "Unknown node", "app", True),
        ("javascript:alert(1)", "Unknown node", "app", True),
        ("n8n-nodes-base.<script>", "Unknown node", "app", False),
    ],
)
def test_fallback_names_for_any_type(type_id, display, category, community):
    kind = describe(type_id)
    assert (kind.display_name, kind.category, kind.is_community) == (display, category, community)
    assert kind.is_known is False


def test_humanise_keeps_a_small_alphabet():
    assert humanise("googleSheets") == "Google Sheets"
    assert humanise("HTMLExtract") == "HTML Extract"
    assert humanise("<>") == "Unknown node"


@pytest.mark.parametrize(
    ("type_id", "kind"),
    [
        ("n8n-nodes-base.webhook", "webhook"),
        ("n8n-nodes-base.scheduleTrigger", "schedule"),
        ("n8n-nodes-base.cron", "schedule"),
        ("n8n-nodes-base.interval", "schedule"),
        ("n8n-nodes-base.manualTrigger", "manual"),
        ("n8n-nodes-base.start", "manual"),
        ("@n8n/n8n-nodes-langchain.chatTrigger", "chat"),
        ("n8n-nodes-base.formTrigger", "form"),
        ("n8n-nodes-base.telegramTrigger", "app_event"),
        ("n8n-nodes-base.emailReadImap", "app_event"),
        ("n8n-nodes-base.executeWorkflowTrigger", "sub_workflow"),
        ("n8n-nodes-base.errorTrigger", "error"),
        ("@n8n/n8n-nodes-langchain.mcpTrigger", "mcp"),
        ("n8n-nodes-base.set", None),
        ("n8n-nodes-base.form", None),
    ],
)
def test_trigger_kinds(type_id, kind):
    assert trigger_kind(type_id) == kind


def test_fixture_triggers():
    assert [t["kind"] for t in analyse(load("legacy.json")).triggers] == ["schedule"]
    assert [t["kind"] for t in analyse(load("template_wrapper.json")).triggers] == ["form"]
    assert [t["kind"] for t in analyse(load("canvas_copy.json")).triggers] == ["manual"]
    assert [t["kind"] for t in analyse(load("ai_agent.json")).triggers] == ["chat"]


def test_legacy_credentials_by_name_still_count():
    assert analyse(load("legacy.json")).credentials == ["smtp", "telegramApi"]


def test_http_node_borrowing_a_credential_type():
    parameters = {
        "url": "https://api.notion.com/v1/pages",
        "authentication": "predefinedCredentialType",
        "nodeCredentialType": "notionApi",
    }
    call = node("Call", "n8n-nodes-base.httpRequest", parameters=parameters)
    analysis = analyse(parse_workflow(document([call])))
    assert analysis.credentials == ["notionApi"]
    assert analysis.services == ["api.notion.com"]


def test_ai_agent_with_model_tools_memory_and_parser():
    analysis = analyse(load("ai_agent.json"))
    agent = analysis.ai[0]
    assert agent["node"] == "AI Agent" and agent["kind"] == "agent"
    assert agent["models"] == ["OpenAI Chat Model"]
    assert agent["memory"] == ["Simple Memory"]
    assert agent["tools"] == ["Look up order", "MCP Client", "Answer from docs"]
    assert agent["output_parsers"] == ["Structured Output Parser"]
    rag = {entry["node"]: entry for entry in analysis.ai}
    assert rag["Answer from docs"]["models"] == ["Docs model"]
    assert rag["Answer from docs"]["vector_stores"] == ["Docs store"]
    assert rag["Docs store"]["embeddings"] == ["Embeddings"]
    assert analysis.credentials == ["openAiApi"]
    community = {row["type"]: row["community"] for row in analysis.node_types}
    assert community["n8n-nodes-mcp.mcpClientTool"] is True
    assert community["@n8n/n8n-nodes-langchain.agent"] is False
    # Sub-nodes are not steps of the flow.
    assert analysis.graph["order"] == ["When chat message received", "AI Agent"]
    assert len(analysis.graph["islands"]) == 1


def test_an_agent_with_nothing_wired_is_still_listed():
    [entry] = analyse(workflow_of("@n8n/n8n-nodes-langchain.agent")).ai
    assert entry["models"] == [] and entry["tools"] == [] and entry["memory"] == []


def test_sub_node_roles():
    assert roles("@n8n/n8n-nodes-langchain.lmChatOpenAi") == (True, False)
    assert roles("@n8n/n8n-nodes-langchain.agent") == (False, True)
    assert roles("@n8n/n8n-nodes-langchain.toolVectorStore") == (True, True)
    assert roles("n8n-nodes-base.gmailTool") == (True, False)
    assert roles("n8n-nodes-base.gmail") == (False, False)


def test_risk_flags():
    flags = [(f["code"], f["node"]) for f in analyse(load("risky.json")).risk_flags]
    assert flags == [
        ("webhook_no_auth", "Open hook"),
        ("code_execution", "Run code"),
        ("shell_command", "Shell"),
        ("ssh", "Remote"),
        ("http_raw_ip", "Internal API"),
        ("http_dynamic_host", "Any host"),
        ("http_expression_url", "Per user"),
    ]


def test_raw_ip_inside_an_expression_url_is_flagged_twice():
    parameters = {"url": "=http://[::1]:8080/items/{{ $json.id }}"}
    call = node("Call", "n8n-nodes-base.httpRequest", parameters=parameters)
    codes = [f["code"] for f in analyse(parse_workflow(document([call]))).risk_flags]
    assert codes == ["http_raw_ip", "http_expression_url"]


def test_graph_loops_islands_and_order():
    analysis = analyse(load("graph.json"))
    assert analysis.graph["order"] is None  # the batch loop is a cycle
    assert analysis.graph["loops"] == [["Loop Over Items", "Process"]]
    assert analysis.graph["islands"] == [
        ["Start", "Loop Over Items", "Process", "Done", "Old step"],
        ["Island A", "Island B"],
    ]
    assert analysis.complexity["loops"] == 1
    assert analysis.complexity["islands"] == 2
    assert analysis.sticky_count == 2


def test_self_loop_and_dangling_edges_do_not_break_analysis():
    workflow = workflow_of(
        "n8n-nodes-base.manualTrigger",
        "n8n-nodes-base.noOp",
        connections={
            "N0": {"main": [[{"node": "N1", "type": "main", "index": 0}]]},
            "N1": {"main": [[{"node": "N1", "type": "main", "index": 0}, {"node": "Gone"}]]},
            "Nobody": {"main": [[{"node": "N0", "type": "main", "index": 0}]]},
        },
    )
    analysis = analyse(workflow)
    assert analysis.graph["loops"] == [["N1"]]
    assert analysis.graph["order"] is None


def test_long_chain_is_analysed_without_recursion():
    count = 2000
    types = ["n8n-nodes-base.manualTrigger"] + ["n8n-nodes-base.noOp"] * (count - 1)
    connections = {
        f"N{i}": {"main": [[{"node": f"N{i + 1}", "type": "main", "index": 0}]]}
        for i in range(count - 1)
    }
    connections[f"N{count - 1}"] = {"main": [[{"node": "N0", "type": "main", "index": 0}]]}
    analysis = analyse(workflow_of(*types, connections=connections))
    assert len(analysis.graph["loops"]) == 1 and len(analysis.graph["loops"][0]) == count
