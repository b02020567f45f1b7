"""Fake secrets of every kind the scanner knows, built at run time from a seeded generator.

Nothing token-shaped is written literally in the repository (so no scanner or push
protection trips over the test suite); every value is random and belongs to nobody.
"""

from __future__ import annotations

import base64
import json
import random
import string
from typing import Any

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"


def _b64url(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def fake_secrets(seed: int = 8) -> dict[str, str]:
    """One value per kind, keyed by the kind the scanner should report."""
    rng = random.Random(seed)

    def pick(count: int, alphabet: str = ALNUM) -> str:
        return "".join(rng.choice(alphabet) for _ in range(count))

    digits = string.digits
    upper = string.ascii_uppercase + digits
    key_body = base64.b64encode(rng.randbytes(300)).decode()
    pem = "\n".join(key_body[i : i + 64] for i in range(0, len(key_body), 64))
    return {
        "stripe_secret_key": "sk_" + "live_" + pick(24),
        "aws_access_key_id": "AK" + "IA" + pick(16, upper),
        "github_token": "gh" + "p_" + pick(36),
        "slack_token": "xo" + "xb-" + pick(11, digits) + "-" + pick(13, digits) + "-" + pick(24),
        "slack_webhook": "https://hooks.slack.com/services/T"
        + pick(8, upper)
        + "/B"
        + pick(10, upper)
        + "/"
        + pick(24),
        "discord_webhook": "https://discord.com/api/webhooks/"
        + pick(18, digits)
        + "/"
        + pick(68, URLSAFE),
        "openai_api_key": "sk-" + "proj-" + pick(48),
        "anthropic_api_key": "sk-" + "ant-api03-" + pick(93, URLSAFE),
        "google_api_key": "AI" + "za" + pick(35, URLSAFE),
        "telegram_bot_token": pick(10, digits) + ":AA" + pick(33, URLSAFE),
        "sendgrid_api_key": "SG." + pick(22, URLSAFE) + "." + pick(43, URLSAFE),
        "jwt": _b64url({"alg": "HS256", "typ": "JWT"})
        + "."
        + _b64url({"sub": pick(12), "iat": 1_700_000_000})
        + "."
        + pick(43, URLSAFE),
        "private_key": "-----BEGIN RSA PRIVATE KEY-----\n"
        + pem
        + "\n-----END RSA PRIVATE KEY-----",
        "basic_auth": "Basic " + base64.b64encode(("admin:" + pick(18)).encode()).decode(),
        "bearer_token": "Bearer " + pick(40),
        "url_credentials": "postgres://app:" + pick(20) + "@db.internal.test:5432/app",
        "generic_api_key": pick(32, string.ascii_lowercase + digits),
        "password": pick(14),
    }


def secret_parts(secrets: dict[str, str]) -> dict[str, str]:
    """The part of each value that is secret (a URL's host or a "Bearer " prefix is not)."""
    parts = dict(secrets)
    parts["url_credentials"] = secrets["url_credentials"].split(":")[2].split("@")[0]
    parts["bearer_token"] = secrets["bearer_token"].split()[1]
    parts["basic_auth"] = secrets["basic_auth"].split()[1]
    parts["private_key"] = secrets["private_key"].splitlines()[2]
    return parts


def pair(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def secrets_workflow(
    seed: int = 8,
) -> tuple[dict[str, Any], set[tuple[str, str]], dict[str, str]]:
    """(document, {(pointer, kind)} of planted secrets, {pointer: value} of decoys).

    The secrets sit where real exports leak them: headers, query strings, URLs, Code, Set
    fields, sticky notes, node notes, pinData and an inline credentials object.
    """
    s = fake_secrets(seed)
    code = (
        "// call the billing API\n"
        f"const stripeKey = '{s['stripe_secret_key']}';\n"
        "const region = 'eu-west-1';\n"
        f'const awsKey = "{s["aws_access_key_id"]}";\n'
        "const fromEnv = $env.OPENAI_API_KEY;\n"
        "return $input.all();"
    )
    private_code = f"const key = `{s['private_key']}`;\nreturn [];"
    http_params = {
        "method": "POST",
        "url": "https://api.example.com/v1/items?limit=100&page=2",
        "sendHeaders": True,
        "headerParameters": {
            "parameters": [
                pair("Authorization", s["bearer_token"]),
                pair("X-Token", s["jwt"]),
                pair("Authorization", "=Bearer {{ $json.token }}"),
                pair("X-API-Key", "YOUR_API_KEY"),
                pair("Content-Type", "application/json"),
            ]
        },
        "sendQuery": True,
        "queryParameters": {
            "parameters": [
                pair("key", s["google_api_key"]),
                pair("token", "<your-token-here>"),
                pair("secret", "={{ $credentials.apiKey }}"),
                pair("api_key", "sk-xxxxxxxxxxxxxxxxxxxxxxxx"),
                pair("request_id", "3f0c9a7e-8b1d-4c2e-9f6a-5d4e3c2b1a09"),
            ]
        },
    }
    set_params = {
        "assignments": {
            "assignments": [
                {"id": "f1", "name": "apiKey", "value": s["generic_api_key"], "type": "string"},
                {"id": "f2", "name": "claude", "value": s["anthropic_api_key"], "type": "string"},
                {"id": "f3", "name": "slack", "value": s["slack_token"], "type": "string"},
                {"id": "f4", "name": "password", "value": "REPLACE_ME", "type": "string"},
                {"id": "f5", "name": "dbUrl", "value": s["url_credentials"], "type": "string"},
                {"id": "f6", "name": "sessionId", "value": "sess_2024_report_v2", "type": "string"},
            ]
        }
    }
    document = {
        "name": "Leaky workflow",
        "nodes": [
            {
                "parameters": {},
                "id": "0b6f2d1e-4c3a-4b5d-9e8f-7a6b5c4d3e2f",
                "name": "Start",
                "type": "n8n-nodes-base.manualTrigger",
                "typeVersion": 1,
                "position": [0, 0],
            },
            {
                "parameters": http_params,
                "name": "Call API",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": 4.2,
                "position": [220, 0],
                "credentials": {"openAiApi": {"id": "AbC123xyz789QwErT", "name": "OpenAI acct 2"}},
                "notes": "SendGrid fallback: " + s["sendgrid_api_key"],
            },
            {
                "parameters": {"jsCode": code},
                "name": "Code",
                "type": "n8n-nodes-base.code",
                "typeVersion": 2,
                "position": [440, 0],
            },
            {
                "parameters": set_params,
                "name": "Config",
                "type": "n8n-nodes-base.set",
                "typeVersion": 3.4,
                "position": [660, 0],
            },
            {
                "parameters": {"url": s["slack_webhook"], "method": "POST"},
                "name": "Slack hook",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": 4.2,
                "position": [880, 0],
            },
            {
                "parameters": {
                    "url": "https://api.telegram.org/bot" + s["telegram_bot_token"] + "/sendMessage"
                },
                "name": "Telegram raw",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": 4.2,
                "position": [1100, 0],
            },
            {
                "parameters": {
                    "url": s["discord_webhook"],
                    "headerParameters": {"parameters": [pair("Authorization", s["basic_auth"])]},
                },
                "name": "Discord",
                "type": "n8n-nodes-base.httpRequest",
                "typeVersion": 4.2,
                "position": [1320, 0],
                "credentials": {"httpBasicAuth": {"user": "admin", "password": s["password"]}},
            },
            {
                "parameters": {"jsCode": private_code},
                "name": "Sign",
                "type": "n8n-nodes-base.code",
                "typeVersion": 2,
                "position": [1540, 0],
            },
            {
                "parameters": {
                    "content": "## Setup\nMy token is " + s["github_token"] + " until I rotate it.",
                    "height": 200,
                    "width": 300,
                },
                "name": "Sticky Note",
                "type": "n8n-nodes-base.stickyNote",
                "typeVersion": 1,
                "position": [0, -300],
            },
        ],
        "pinData": {"Call API": [{"json": {"access_token": s["openai_api_key"], "count": 3}}]},
        "connections": {
            "Start": {"main": [[{"node": "Call API", "type": "main", "index": 0}]]},
            "Call API": {"main": [[{"node": "Code", "type": "main", "index": 0}]]},
        },
        "meta": {"instanceId": "9f" * 32},
        "versionId": "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170",
    }
    planted = {
        ("/nodes/2/parameters/jsCode", "aws_access_key_id"),
        ("/nodes/1/parameters/headerParameters/parameters/0/value", "bearer_token"),
        ("/nodes/1/parameters/headerParameters/parameters/1/value", "jwt"),
        ("/nodes/1/parameters/queryParameters/parameters/0/value", "google_api_key"),
        ("/nodes/1/notes", "sendgrid_api_key"),
        ("/nodes/2/parameters/jsCode", "stripe_secret_key"),
        ("/nodes/3/parameters/assignments/assignments/0/value", "generic_api_key"),
        ("/nodes/3/parameters/assignments/assignments/1/value", "anthropic_api_key"),
        ("/nodes/3/parameters/assignments/assignments/2/value", "slack_token"),
        ("/nodes/3/parameters/assignments/assignments/4/value", "url_credentials"),
        ("/nodes/4/parameters/url", "slack_webhook"),
        ("/nodes/5/parameters/url", "telegram_bot_token"),
        ("/nodes/6/parameters/url", "discord_webhook"),
        ("/nodes/6/parameters/headerParameters/parameters/0/value", "basic_auth"),
        ("/nodes/6/credentials/httpBasicAuth/password", "password"),
        ("/nodes/7/parameters/jsCode", "private_key"),
        ("/nodes/8/parameters/content", "github_token"),
        ("/pinData/Call API/0/json/access_token", "openai_api_key"),
    }
    decoys = {
        "/nodes/1/parameters/headerParameters/parameters/2/value": "=Bearer {{ $json.token }}",
        "/nodes/1/parameters/headerParameters/parameters/3/value": "YOUR_API_KEY",
        "/nodes/1/parameters/queryParameters/parameters/1/value": "<your-token-here>",
        "/nodes/1/parameters/queryParameters/parameters/2/value": "={{ $credentials.apiKey }}",
        "/nodes/1/parameters/queryParameters/parameters/3/value": "sk-xxxxxxxxxxxxxxxxxxxxxxxx",
        "/nodes/3/parameters/assignments/assignments/3/value": "REPLACE_ME",
    }
    return document, planted, decoys


def leaks_beyond_parameters(
    seed: int = 14,
) -> tuple[dict[str, Any], set[tuple[str, str]], dict[str, str]]:
    """(document, {(pointer, kind)} planted, {pointer: value} decoys) for what real exports
    leak outside tidy ``apiKey`` parameters: values pinned from real runs (pinData), inline
    values in a node's ``credentials`` object, passwords in connection strings and URLs, and
    Authorization headers in their less tidy spellings. Every value is random."""
    rng = random.Random(seed)

    def pick(count: int, alphabet: str = ALNUM) -> str:
        return "".join(rng.choice(alphabet) for _ in range(count))

    hexdigits = string.digits + "abcdef"
    b64 = ALNUM + "+/"
    words = ("orbit", "maple", "copper", "lantern", "violet", "harbor", "saddle")
    passphrase = " ".join(rng.sample(words, 3)) + " " + pick(2, string.digits)
    session_cookie = "s%3A" + pick(32, URLSAFE) + "." + pick(27, URLSAFE)
    basic_unpadded = base64.b64encode(("svc-report:" + pick(16)).encode()).decode().rstrip("=")
    if len(basic_unpadded) % 4 == 0:  # make sure the padding really is missing
        basic_unpadded = base64.b64encode(("svc-reports:" + pick(16)).encode()).decode()
        basic_unpadded = basic_unpadded.rstrip("=")
    curl_password = pick(6) + "-" + pick(6)
    btoa_password = pick(14)
    at_password = pick(5) + "@" + pick(7)
    redis_password = pick(18)
    sql_password = pick(10) + "!" + pick(3)
    account_key = base64.b64encode(rng.randbytes(64)).decode()
    pin_data = {
        "Login": [
            {
                "json": {
                    "email": "ops@example.test",
                    "password": passphrase,
                    "session": session_cookie,
                    "sid": pick(32, hexdigits),
                    "id": "rec" + pick(14),
                    "threadId": pick(16, hexdigits),
                    "etag": 'W/"' + pick(24, hexdigits) + '"',
                    "createdAt": "2024-05-02T10:11:12.000Z",
                }
            }
        ],
        "Webhook": [
            {
                "json": {
                    "headers": {
                        "host": "hooks.example.test",
                        "cookie": "theme=dark; connect.sid=" + session_cookie + "; lang=en",
                        "x-request-id": pick(32, hexdigits),
                        "content-type": "application/json",
                    },
                    "body": {"sessionToken": "={{ $json.token }}", "pass": "********"},
                    "setCookie": ["SESSIONID=" + pick(40) + "; Path=/; HttpOnly; Secure"],
                    "prefs": "theme=dark; lang=en-GB",
                }
            }
        ],
    }
    nodes = [
        {
            "parameters": {"path": "incoming", "httpMethod": "POST"},
            "name": "Webhook",
            "type": "n8n-nodes-base.webhook",
            "typeVersion": 2,
            "position": [0, 0],
            "webhookId": "5c3b2a19-0f8e-4d7c-b6a5-9483726150fe",
        },
        {
            "parameters": {"url": "https://app.example.test/login", "method": "POST"},
            "name": "Login",
            "type": "n8n-nodes-base.httpRequest",
            "typeVersion": 4.2,
            "position": [220, 0],
            "credentials": {
                "httpCustomAuth": {
                    "id": "Qw3rTy7UiOp9AsDf",
                    "name": "Custom auth",
                    "data": "U2FsdGVkX1" + pick(42, b64),
                },
                "smtp": {"user": "mailer@example.test", "pw": pick(12)},
                "postgres": {"host": "db.internal", "database": "app", "user": "app"},
                "ftp": {"id": None, "name": "FTP", "password": "={{ $env.FTP_PASSWORD }}"},
            },
        },
        {
            "parameters": {
                "assignments": {
                    "assignments": [
                        {
                            "name": "cache",
                            "value": f"redis://:{redis_password}@cache.internal:6379/0",
                        },
                        {
                            "name": "mssql",
                            "value": "Server=tcp:sql.example.test,1433;Database=app;"
                            f"User ID=svc;Password={sql_password};Encrypt=true",
                        },
                        {
                            "name": "blob",
                            "value": "DefaultEndpointsProtocol=https;AccountName=store;"
                            f"AccountKey={account_key};EndpointSuffix=core.windows.net",
                        },
                        {"name": "db", "value": f"postgres://app:{at_password}@db.internal/app"},
                        {"name": "queue", "value": "amqp://guest:guest@localhost:5672/"},
                        {"name": "legacy", "value": "postgres://app:${DB_PASSWORD}@db/app"},
                        {"name": "local", "value": "Server=.;Database=app;Password=;"},
                    ]
                }
            },
            "name": "Settings",
            "type": "n8n-nodes-base.set",
            "typeVersion": 3.4,
            "position": [440, 0],
        },
        {
            "parameters": {
                "headerParameters": {
                    "parameters": [
                        {"name": "Authorization", "value": "Token " + pick(40, hexdigits)},
                        {"name": "Proxy-Authorization", "value": "Basic " + basic_unpadded},
                        {"name": "Authorization", "value": "Token YOUR_TOKEN"},
                        {"name": "Authorization", "value": "Basic {{ $json.basic }}"},
                    ]
                }
            },
            "name": "Call API",
            "type": "n8n-nodes-base.httpRequest",
            "typeVersion": 4.2,
            "position": [660, 0],
        },
        {
            "parameters": {
                "command": f"curl -sf -u deploy:{curl_password} https://ci.example.test/hook"
            },
            "name": "Deploy",
            "type": "n8n-nodes-base.executeCommand",
            "typeVersion": 1,
            "position": [880, 0],
        },
        {
            "parameters": {
                "jsCode": "const auth = 'Basic ' + btoa('reporter:"
                + btoa_password
                + "');\nconst other = 'Basic ' + btoa(user + ':' + pass);\nreturn [];"
            },
            "name": "Code",
            "type": "n8n-nodes-base.code",
            "typeVersion": 2,
            "position": [1100, 0],
        },
        {
            "parameters": {"command": "curl -u $CI_USER:$CI_PASSWORD https://ci.example.test"},
            "name": "Deploy safely",
            "type": "n8n-nodes-base.executeCommand",
            "typeVersion": 1,
            "position": [1320, 0],
        },
    ]
    document = {
        "name": "Leaks beyond parameters",
        "nodes": nodes,
        "pinData": pin_data,
        "connections": {
            "Webhook": {"main": [[{"node": "Login", "type": "main", "index": 0}]]},
            "Login": {"main": [[{"node": "Settings", "type": "main", "index": 0}]]},
        },
    }
    assignments = "/nodes/2/parameters/assignments/assignments"
    headers = "/nodes/3/parameters/headerParameters/parameters"
    planted = {
        ("/pinData/Login/0/json/password", "password"),
        ("/pinData/Login/0/json/session", "session_token"),
        ("/pinData/Login/0/json/sid", "session_token"),
        ("/pinData/Webhook/0/json/headers/cookie", "session_token"),
        ("/pinData/Webhook/0/json/setCookie/0", "session_token"),
        ("/nodes/1/credentials/httpCustomAuth/data", "credential_value"),
        ("/nodes/1/credentials/smtp/pw", "credential_value"),
        (f"{assignments}/0/value", "url_credentials"),
        (f"{assignments}/1/value", "connection_string"),
        (f"{assignments}/2/value", "connection_string"),
        (f"{assignments}/3/value", "url_credentials"),
        (f"{headers}/0/value", "authorization_header"),
        (f"{headers}/1/value", "basic_auth"),
        ("/nodes/4/parameters/command", "basic_auth"),
        ("/nodes/5/parameters/jsCode", "basic_auth"),
    }
    decoys = {
        "/pinData/Login/0/json/id": pin_data["Login"][0]["json"]["id"],
        "/pinData/Login/0/json/threadId": pin_data["Login"][0]["json"]["threadId"],
        "/pinData/Login/0/json/etag": pin_data["Login"][0]["json"]["etag"],
        "/pinData/Webhook/0/json/headers/x-request-id": pin_data["Webhook"][0]["json"]["headers"][
            "x-request-id"
        ],
        "/pinData/Webhook/0/json/body/sessionToken": "={{ $json.token }}",
        "/pinData/Webhook/0/json/body/pass": "********",
        "/pinData/Webhook/0/json/prefs": "theme=dark; lang=en-GB",
        "/nodes/1/credentials/httpCustomAuth/id": "Qw3rTy7UiOp9AsDf",
        "/nodes/1/credentials/smtp/user": "mailer@example.test",
        "/nodes/1/credentials/postgres/host": "db.internal",
        "/nodes/1/credentials/ftp/password": "={{ $env.FTP_PASSWORD }}",
        f"{assignments}/4/value": "amqp://guest:guest@localhost:5672/",
        f"{assignments}/5/value": "postgres://app:${DB_PASSWORD}@db/app",
        f"{assignments}/6/value": "Server=.;Database=app;Password=;",
        f"{headers}/2/value": "Token YOUR_TOKEN",
        f"{headers}/3/value": "Basic {{ $json.basic }}",
        "/nodes/6/parameters/command": "curl -u $CI_USER:$CI_PASSWORD https://ci.example.test",
    }
    return document, planted, decoys
