"""A cheap check of an alert target, for every command that loads the config.

Only Apprise knows for sure whether it can build a target, and asking it loads its 190 plugins (about
a second), so that check runs when the daemon starts (``targets.py``). Every other command (`mt config
show`, `mt demo`, ...) checks what needs no Apprise:

- the scheme is one of Apprise's (``APPRISE_SCHEMES``, as Apprise lists them; a test keeps the list
  equal to the installed Apprise's), or ``http``/``https``, which Apprise takes as a service's own
  web-hook address (a Discord or Slack hook) and only it can judge. A scheme not in the list is put
  to Apprise before it is refused: a newer Apprise may know it;
- the web-hook and e-mail schemes, whose host is not a secret, name a host, with a port (if any) from
  1 to 65535: ``mailto://``, ``json://user:pw@/hook`` or ``json://127.0.0.1:80a/hook`` can never be
  delivered.

Its reasons never quote the URL beyond its scheme: the rest may hold a token. What it cannot catch
is a known scheme missing the parts its service needs (``tgram://`` without a bot token, a Discord
hook without its token): each plugin has its own rules, and the daemon's start refuses those.
"""

from __future__ import annotations

from urllib.parse import urlsplit

NATIVE_SCHEMES = frozenset({"http", "https"})
"""Schemes Apprise accepts as a service's own web-hook address (``https://discord.com/api/webhooks/...``)."""

HOST_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos"})
"""Schemes whose URL is ``scheme://[user[:password]@]host[:port][/path]``, the host required."""

# fmt: off
APPRISE_SCHEMES = frozenset({
    "46elks", "acs", "amqp", "amqps", "apprise", "apprises", "aprs", "atalk", "awswhatsapp",
    "azure", "bale", "bark", "barks", "betterstack", "blink1", "bluesky", "brevo", "bsky",
    "bulksms", "bulkvs", "burstsms", "chanify", "clickatell", "clicksend", "cliq", "cm", "d7sms",
    "dapnet", "dbus", "deltachat", "deltachats", "dingtalk", "discord", "dot", "eight00com", "elks",
    "emby", "embys", "enigma2", "enigma2s", "evolution", "evolutions", "exotel", "fcm", "feishu",
    "firehydrant", "flock", "flowtriq", "flowtriqs", "fluxer", "fluxers", "form", "forms",
    "freemobile", "gchat", "gio", "github", "glib", "gnome", "goalert", "goalerts", "gorush",
    "gorushs", "gotify", "gotifys", "groundmail", "groupme", "growl", "guilded", "gupshup", "hassio",
    "hassios", "httpsms", "humhub", "humhubs", "ifttt", "ilert", "incidentio", "infobip",
    "instagram", "irc", "ircs", "jellyfin", "jellyfins", "jira", "join", "json", "jsons", "kakao",
    "kakaotalk", "kaleyra", "kavenegar", "kde", "klr", "kodi", "kodis", "kook", "kudosity",
    "kumulos", "lametric", "lametrics", "lark", "lauther", "lfg", "line", "macosx", "mailersend",
    "mailgun", "mailto", "mailtos", "mastodon", "mastodons", "matrix", "matrixs", "misskey",
    "misskeys", "mmost", "mmosts", "mobilemessage", "mobilemsg", "mqtt", "mqtts", "msg91", "msgbird",
    "ncloud", "nclouds", "nctalk", "nctalks", "nexmo", "nostr", "notica", "noticas", "notifiarr",
    "notifico", "notificos", "notifyapp", "notifyre", "ntfy", "ntfys", "o365", "octopush", "onebot",
    "onebots", "onesignal", "opsgenie", "opsimate", "opsimates", "pagerduty", "pagertree", "parsep",
    "parseps", "pbul", "pinglet", "pinglets", "pingram", "pjet", "pjets", "plivo", "postmark",
    "pover", "prowl", "psafer", "psafers", "push", "pushdeer", "pushdeers", "pushed", "pushme",
    "pushplus", "pushward", "pushy", "qq", "qt", "reddit", "resend", "revolt", "ringc", "rocket",
    "rockets", "rsyslog", "ryver", "schan", "sendgrid", "sendpulse", "serwersms", "ses", "session",
    "sessions", "seven", "sfr", "signal", "signalgrid", "signals", "signl4", "simplepush", "sinch",
    "slack", "smpp", "smpps", "smsc", "smseagle", "smseagles", "smsmanager", "smsmgr", "smstunnel",
    "smtp2go", "sns", "sogs", "sparkpost", "spike", "splunk", "spugpush", "spush", "squadcast",
    "stackfield", "strmlabs", "synology", "synologys", "syslog", "telesign", "telnyx", "tgram",
    "threema", "toot", "toots", "trigv", "trigvs", "tweet", "twilio", "twist", "twitter", "vapid",
    "viber", "victorops", "voipms", "vonage", "webex", "wechat", "wecom", "wecombot", "whapi",
    "whatsapp", "windows", "workflow", "workflows", "wpush", "wxpusher", "wxteams", "x", "xbmc",
    "xbmcs", "xmatters", "xml", "xmls", "xmpp", "xmpps", "youlmk", "zalo", "zcliq", "zohocliq",
    "zoom", "zulip",
})
"""The schemes of Apprise 2.3.0's plugins (``apprise.manager_plugins.NotificationManager().schemas()``)."""
# fmt: on


def shape_problem(url: str) -> str | None:
    """Why ``url`` (``scheme://...``) cannot be an Apprise target, or None when nothing short of
    Apprise itself can tell. The reason names no part of the URL but its scheme."""
    scheme = url.partition("://")[0].lower()
    if scheme not in APPRISE_SCHEMES and scheme not in NATIVE_SCHEMES:
        from mastertrade.engine.alerts.targets import apprise_knows

        if not apprise_knows(scheme):
            return f"its scheme {scheme}:// is not one of Apprise's{_did_you_mean(scheme)}"
    if scheme in HOST_SCHEMES:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (it raises on a port that is not a number from 0 to 65535)
        except ValueError:
            return "it does not parse as a URL (a port that is no number from 1 to 65535?)"
        if not parts.hostname:
            form = f"{scheme}://user:password@host" if scheme.startswith("mail") else f"{scheme}://host/path"
            return f"it names no host (the form is {form})"
        if parts.port == 0:
            return "its port is 0"
    return None


def _did_you_mean(scheme: str) -> str:
    import difflib

    close = difflib.get_close_matches(scheme, sorted(APPRISE_SCHEMES | NATIVE_SCHEMES), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}://?)" if close else ""
