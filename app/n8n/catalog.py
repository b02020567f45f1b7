"""Node types: display names, categories, services and node families, with a readable fallback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_BASE = "n8n-nodes-base."
_LANGCHAIN = "@n8n/n8n-nodes-langchain."
_CORE_PACKAGES = ("n8n-nodes-base", "@n8n/n8n-nodes-langchain")

# The ~150 most used types in the corpus (2,600 public exports; these cover about 94 % of
# node instances), as "type | display name | category | service". b. and l. abbreviate the
# two core packages. The names follow n8n's own node descriptions.
_TABLE = """
b.stickyNote | Sticky Note | note |
b.set | Edit Fields (Set) | transform |
b.httpRequest | HTTP Request | http |
b.if | If | flow |
b.code | Code | code |
l.lmChatOpenAi | OpenAI Chat Model | ai | OpenAI
b.noOp | No Operation, do nothing | flow |
l.agent | AI Agent | ai |
b.manualTrigger | When clicking ‘Execute workflow’ | trigger |
b.googleSheets | Google Sheets | database | Google Sheets
b.merge | Merge | flow |
b.splitOut | Split Out | transform |
b.telegram | Telegram | messaging | Telegram
l.memoryBufferWindow | Simple Memory | ai |
b.webhook | Webhook | trigger |
l.openAi | OpenAI | ai | OpenAI
b.splitInBatches | Loop Over Items | flow |
b.aggregate | Aggregate | transform |
b.filter | Filter | flow |
b.switch | Switch | flow |
l.chainLlm | Basic LLM Chain | ai |
b.scheduleTrigger | Schedule Trigger | trigger |
b.respondToWebhook | Respond to Webhook | http |
b.googleDrive | Google Drive | files | Google Drive
b.notion | Notion | app | Notion
l.embeddingsOpenAi | Embeddings OpenAI | ai | OpenAI
b.gmail | Gmail | messaging | Gmail
l.outputParserStructured | Structured Output Parser | ai |
b.airtable | Airtable | database | Airtable
b.executeWorkflowTrigger | When Executed by Another Workflow | trigger |
l.lmChatGoogleGemini | Google Gemini Chat Model | ai | Google Gemini
l.chatTrigger | When chat message received | trigger |
b.wait | Wait | flow |
b.slack | Slack | messaging | Slack
b.html | HTML | transform |
l.toolWorkflow | Call n8n Workflow Tool | ai |
b.extractFromFile | Extract from File | files |
l.toolVectorStore | Answer questions with a vector store | ai |
b.function | Function | code |
b.executeWorkflow | Execute Workflow | flow |
l.lmChatAnthropic | Anthropic Chat Model | ai | Anthropic
l.documentDefaultDataLoader | Default Data Loader | ai |
b.supabase | Supabase | database | Supabase
b.emailSend | Send Email | messaging | Email (SMTP)
b.microsoftOutlook | Microsoft Outlook | messaging | Microsoft Outlook
b.form | n8n Form | flow |
b.formTrigger | n8n Form Trigger | trigger |
l.vectorStorePinecone | Pinecone Vector Store | ai | Pinecone
l.textSplitterCharacterTextSplitter | Character Text Splitter | ai |
l.vectorStoreSupabase | Supabase Vector Store | ai | Supabase
b.openAi | OpenAI | ai | OpenAI
l.vectorStoreQdrant | Qdrant Vector Store | ai | Qdrant
l.textSplitterRecursiveCharacterTextSplitter | Recursive Character Text Splitter | ai |
l.informationExtractor | Information Extractor | ai |
b.redis | Redis | database | Redis
b.spotify | Spotify | app | Spotify
b.summarize | Summarize | transform |
b.cron | Cron | trigger |
b.telegramTrigger | Telegram Trigger | trigger | Telegram
b.markdown | Markdown | transform |
b.itemLists | Item Lists | transform |
b.functionItem | Function Item | code |
b.convertToFile | Convert to File | files |
b.limit | Limit | flow |
b.whatsApp | WhatsApp Business Cloud | messaging | WhatsApp
b.readWriteFile | Read/Write Files from Disk | files |
l.vectorStoreRedis | Redis Vector Store | ai | Redis
b.executeCommand | Execute Command | code |
b.gmailTrigger | Gmail Trigger | trigger | Gmail
b.sort | Sort | transform |
l.embeddingsCohere | Embeddings Cohere | ai | Cohere
b.stopAndError | Stop and Error | flow |
b.postgres | Postgres | database | Postgres
l.toolHttpRequest | HTTP Request Tool | ai |
l.vectorStoreWeaviate | Weaviate Vector Store | ai | Weaviate
l.chainRetrievalQa | Question and Answer Chain | ai |
l.chainSummarization | Summarization Chain | ai |
l.lmChatOpenRouter | OpenRouter Chat Model | ai | OpenRouter
b.jira | Jira Software | app | Jira
b.wordpress | WordPress | app | WordPress
l.embeddingsGoogleGemini | Embeddings Google Gemini | ai | Google Gemini
b.moveBinaryData | Move Binary Data | transform |
l.retrieverVectorStore | Vector Store Retriever | ai |
b.youTube | YouTube | app | YouTube
l.textSplitterTokenSplitter | Token Splitter | ai |
b.n8n | n8n | app | n8n API
b.theHiveProject | TheHive 5 | app | TheHive
b.nextCloud | Nextcloud | files | Nextcloud
l.embeddingsHuggingFace | Embeddings Hugging Face Inference | ai | Hugging Face
l.memoryManager | Chat Memory Manager | ai |
l.lmChatHf | Hugging Face Inference Model | ai | Hugging Face
b.xml | XML | transform |
b.googleDocs | Google Docs | files | Google Docs
n8n-nodes-mcp.mcpClientTool | MCP Client Tool | ai | MCP
b.bambooHr | BambooHR | app | BambooHR
b.googleDriveTrigger | Google Drive Trigger | trigger | Google Drive
b.nocoDb | NocoDB | database | NocoDB
b.compareDatasets | Compare Datasets | flow |
b.ssh | SSH | code |
b.twilio | Twilio | messaging | Twilio
l.mcpTrigger | MCP Server Trigger | trigger |
b.hubspot | HubSpot | app | HubSpot
l.outputParserAutofixing | Auto-fixing Output Parser | ai |
b.odoo | Odoo | app | Odoo
b.notionTrigger | Notion Trigger | trigger | Notion
b.postBin | PostBin | http | PostBin
b.microsoftToDo | Microsoft To Do | app | Microsoft To Do
b.airtop | Airtop | app | Airtop
b.googleTasks | Google Tasks | app | Google Tasks
l.toolCalculator | Calculator | ai |
b.mySql | MySQL | database | MySQL
b.writeBinaryFile | Write Binary File | files |
b.pipedrive | Pipedrive | app | Pipedrive
l.toolCode | Code Tool | ai |
b.discord | Discord | messaging | Discord
l.textClassifier | Text Classifier | ai |
b.github | GitHub | app | GitHub
b.mautic | Mautic | app | Mautic
l.toolWikipedia | Wikipedia | ai | Wikipedia
b.microsoftOneDrive | Microsoft OneDrive | files | Microsoft OneDrive
b.spreadsheetFile | Spreadsheet File | files |
b.bitwarden | Bitwarden | app | Bitwarden
b.removeDuplicates | Remove Duplicates | transform |
b.autopilot | Autopilot | app | Autopilot
b.renameKeys | Rename Keys | transform |
l.memoryRedisChat | Redis Chat Memory | ai | Redis
b.graphql | GraphQL | http |
b.editImage | Edit Image | files |
b.convertKit | ConvertKit | app | ConvertKit
l.memoryPostgresChat | Postgres Chat Memory | ai | Postgres
b.baserow | Baserow | database | Baserow
b.gitlab | GitLab | app | GitLab
b.twitter | X (Formerly Twitter) | messaging | X (Twitter)
b.whatsAppTrigger | WhatsApp Trigger | trigger | WhatsApp
l.vectorStoreInMemory | Simple Vector Store | ai |
b.typeformTrigger | Typeform Trigger | trigger | Typeform
l.lmChatAzureOpenAi | Azure OpenAI Chat Model | ai | Azure OpenAI
b.goToWebinar | GoToWebinar | app | GoToWebinar
b.twist | Twist | messaging | Twist
b.egoi | E-goi | app | E-goi
b.readBinaryFile | Read Binary File | files |
b.erpNext | ERPNext | app | ERPNext
b.matrix | Matrix | messaging | Matrix
b.googleBooks | Google Books | app | Google Books
b.dropbox | Dropbox | files | Dropbox
b.mattermost | Mattermost | messaging | Mattermost
l.lmChatGroq | Groq Chat Model | ai | Groq
b.googleCalendar | Google Calendar | app | Google Calendar
b.dateTime | Date & Time | transform |
b.emailReadImap | Email Trigger (IMAP) | trigger | Email (IMAP)
b.localFileTrigger | Local File Trigger | trigger |
b.microsoftTeams | Microsoft Teams | messaging | Microsoft Teams
b.googleContacts | Google Contacts | app | Google Contacts
b.salesforce | Salesforce | app | Salesforce
b.snowflake | Snowflake | database | Snowflake
b.linear | Linear | app | Linear
l.lmChatOllama | Ollama Chat Model | ai | Ollama
l.lmChatDeepSeek | DeepSeek Chat Model | ai | DeepSeek
l.lmChatMistralCloud | Mistral Cloud Chat Model | ai | Mistral AI
l.embeddingsMistralCloud | Embeddings Mistral Cloud | ai | Mistral AI
l.embeddingsOllama | Embeddings Ollama | ai | Ollama
l.manualChatTrigger | Manual Chat Trigger | trigger |
l.toolSerpApi | SerpApi (Google Search) | ai | SerpApi
l.toolThink | Think Tool | ai |
l.mcpClientTool | MCP Client Tool | ai | MCP
l.lmOpenAi | OpenAI Model | ai | OpenAI
l.lmOllama | Ollama Model | ai | Ollama
l.outputParserItemList | Item List Output Parser | ai |
l.vectorStoreMongoDBAtlas | MongoDB Atlas Vector Store | ai | MongoDB
l.vectorStorePGVector | Postgres PGVector Store | ai | Postgres
l.vectorStoreMilvus | Milvus Vector Store | ai | Milvus
l.memoryMongoDbChat | MongoDB Chat Memory | ai | MongoDB
l.retrieverWorkflow | Workflow Retriever | ai |
l.sentimentAnalysis | Sentiment Analysis | ai |
l.openAiAssistant | OpenAI Assistant | ai | OpenAI
l.code | LangChain Code | code |
l.documentJsonInputLoader | JSON Input Loader | ai |
b.crypto | Crypto | transform |
b.sendGrid | SendGrid | messaging | SendGrid
b.ftp | FTP | files | FTP
b.awsS3 | AWS S3 | files | AWS S3
b.s3 | S3 | files | S3
b.awsSes | AWS SES | messaging | AWS SES
b.zoom | Zoom | app | Zoom
b.clickUp | ClickUp | app | ClickUp
b.htmlExtract | HTML Extract | transform |
b.executionData | Execution Data | flow |
b.interval | Interval | trigger |
b.start | Start | trigger |
b.errorTrigger | Error Trigger | trigger |
b.mongoDb | MongoDB | database | MongoDB
b.microsoftSql | Microsoft SQL | database | Microsoft SQL
b.elasticsearch | Elasticsearch | database | Elasticsearch
b.mailchimp | Mailchimp | messaging | Mailchimp
b.stripe | Stripe | app | Stripe
b.shopify | Shopify | app | Shopify
b.wooCommerce | WooCommerce | app | WooCommerce
b.trello | Trello | app | Trello
b.asana | Asana | app | Asana
b.microsoftExcel | Microsoft Excel 365 | database | Microsoft Excel
b.rssFeedRead | RSS Read | http | RSS
b.aiTransform | AI Transform | code |
b.dataTable | Data table | database |
b.compression | Compression | files |
b.debugHelper | DebugHelper | flow |
"""


@dataclass(frozen=True, slots=True)
class NodeKind:
    """What the editor knows about a type id, from the table or derived from the id."""

    type: str
    display_name: str
    category: str
    service: str | None
    is_community: bool
    is_trigger: bool
    is_known: bool


def _expand(short: str) -> str:
    if short.startswith("b."):
        return _BASE + short[2:]
    if short.startswith("l."):
        return _LANGCHAIN + short[2:]
    return short


def _load_table() -> dict[str, tuple[str, str, str | None]]:
    table = {}
    for line in _TABLE.strip().splitlines():
        type_id, display, category, service = (part.strip() for part in line.split("|"))
        table[_expand(type_id)] = (display, category, service or None)
    return table


TABLE = _load_table()

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SAFE_WORD = re.compile(r"[^A-Za-z0-9 &()+\-]")
_TYPE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,80}")
# Sub-node families by the part after the package (FORMAT A7); vectorStore* depends on mode.
_SUB_NODE_PREFIXES = (
    "lmChat",
    "lmOpenAi",
    "lmOllama",
    "lmCohere",
    "lmOpenHuggingFaceInference",
    "embeddings",
    "memory",
    "outputParser",
    "textSplitter",
    "tool",
    "retriever",
    "reranker",
    "document",
    "mcpClientTool",
)
_CONFIGURABLE_PREFIXES = (
    "agent",
    "chain",
    "informationExtractor",
    "textClassifier",
    "sentimentAnalysis",
    "vectorStore",
    "toolVectorStore",
    "retrieverVectorStore",
    "outputParserAutofixing",
    "memoryManager",
    "openAiAssistant",
    "code",
)
# Ports the editor draws under configurable nodes even when nothing is wired to them.
AI_PORTS: dict[str, tuple[str, ...]] = {
    "agent": ("ai_languageModel", "ai_memory", "ai_tool", "ai_outputParser"),
    "chainLlm": ("ai_languageModel", "ai_outputParser"),
    "chainRetrievalQa": ("ai_languageModel", "ai_retriever"),
    "chainSummarization": ("ai_languageModel",),
    "informationExtractor": ("ai_languageModel",),
    "textClassifier": ("ai_languageModel",),
    "sentimentAnalysis": ("ai_languageModel",),
    "openAiAssistant": ("ai_memory", "ai_tool"),
    "toolVectorStore": ("ai_vectorStore", "ai_languageModel"),
    "retrieverVectorStore": ("ai_vectorStore",),
    "outputParserAutofixing": ("ai_languageModel", "ai_outputParser"),
    "memoryManager": ("ai_memory",),
}
# AI inputs of nodes drawn as ordinary nodes (the editor adds the port only when needed).
EXTRA_AI_INPUTS: dict[str, frozenset[str]] = {
    "mcpTrigger": frozenset({"ai_tool"}),
    "chatTrigger": frozenset({"ai_memory"}),
    "openAi": frozenset({"ai_tool", "ai_memory"}),
    "documentDefaultDataLoader": frozenset({"ai_textSplitter"}),
    "documentJsonInputLoader": frozenset({"ai_textSplitter"}),
    "documentBinaryInputLoader": frozenset({"ai_textSplitter"}),
}
_TRIGGER_NAMES = frozenset(
    {
        "webhook",
        "cron",
        "interval",
        "start",
        "emailReadImap",
        "formTrigger",
        "chatTrigger",
        "mcpTrigger",
        "manualChatTrigger",
        "form",
    }
)
_NOT_TRIGGERS = frozenset({"form"})


def package_of(type_id: str) -> str:
    return type_id.rsplit(".", 1)[0] if "." in type_id else ""


def short_name(type_id: str) -> str:
    """The part after the package: ``n8n-nodes-base.gmailTool`` -> ``gmailTool``."""
    return type_id.rsplit(".", 1)[-1]


def is_community(type_id: str) -> bool:
    return package_of(type_id) not in _CORE_PACKAGES


def humanise(word: str) -> str:
    """``googleSheets`` -> ``Google Sheets``; anything outside a small alphabet is dropped."""
    spaced = _CAMEL.sub(" ", word).replace("_", " ").replace("-", " ")
    spaced = _SAFE_WORD.sub("", spaced).strip()
    spaced = " ".join(spaced.split())[:60]
    if not spaced:
        return "Unknown node"
    return spaced[0].upper() + spaced[1:]


@lru_cache(maxsize=4096)
def describe(type_id: str) -> NodeKind:
    """Display name, category, service and flags for any type id, known or not."""
    short = short_name(type_id)
    trigger = _is_trigger(short)
    known = TABLE.get(type_id)
    if known is not None:
        display, category, service = known
        return NodeKind(type_id, display, category, service, is_community(type_id), trigger, True)
    base = short
    suffix = ""
    if short.endswith("Tool") and short != "Tool":
        base, suffix = short[: -len("Tool")], " Tool"
    elif short.endswith("Trigger") and short != "Trigger":
        base, suffix = short[: -len("Trigger")], " Trigger"
    parent = TABLE.get(f"{package_of(type_id)}.{base}")
    if not _TYPE_WORD.fullmatch(short):
        display, category, service = "Unknown node", "app", None
    elif parent is not None:
        display, category, service = parent
        display = display + suffix
    else:
        display = humanise(base) + suffix
        category = _guess_category(type_id, base)
        service = humanise(base) if category in ("app", "messaging", "database", "files") else None
    if trigger:
        category = "trigger"
    return NodeKind(type_id, display, category, service, is_community(type_id), trigger, False)


def _is_trigger(short: str) -> bool:
    if short in _NOT_TRIGGERS:
        return False
    return short.endswith("Trigger") or short in _TRIGGER_NAMES


def _guess_category(type_id: str, base: str) -> str:
    if type_id.startswith(_LANGCHAIN):
        return "ai"
    lowered = base.lower()
    if any(word in lowered for word in ("sql", "db", "base", "redis", "mongo", "postgres")):
        return "database"
    if any(word in lowered for word in ("mail", "chat", "message", "sms", "slack", "telegram")):
        return "messaging"
    if any(word in lowered for word in ("file", "drive", "storage", "pdf", "s3")):
        return "files"
    return "app"


def roles(type_id: str) -> tuple[bool, bool]:
    """(is AI sub-node, takes AI inputs) judged by the type id alone; edges refine it later."""
    short = short_name(type_id)
    langchain = type_id.startswith(_LANGCHAIN)
    vector_store = short.startswith("vectorStore")
    configurable = vector_store or langchain and short.startswith(_CONFIGURABLE_PREFIXES)
    sub = not vector_store and (
        short.endswith("Tool")
        or langchain
        and short.startswith(_SUB_NODE_PREFIXES)
        and short != "memoryManager"
    )
    return sub, configurable


def accepts_ai_input(type_id: str, kind: str) -> bool:
    """Whether a node of this type has an input for the AI connection type ``kind``."""
    if roles(type_id)[1]:
        return True
    extra = EXTRA_AI_INPUTS.get(short_name(type_id)) if type_id.startswith(_LANGCHAIN) else None
    return extra is not None and kind in extra


def ai_ports(type_id: str) -> tuple[str, ...]:
    """The AI input ports the editor draws under a configurable node, in its order."""
    short = short_name(type_id)
    if short.startswith("vectorStore"):
        return ("ai_document", "ai_embedding")
    if short == "agentTool":
        short = "agent"
    return AI_PORTS.get(short, ())
