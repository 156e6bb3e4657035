package server

import (
	"net/http"

	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/auth"
)

// notifierHTTP completes the notifier's configuration with what only the
// HTTP surface knows: who is an admin (webhook URLs are for admins only)
// and the client's address behind trusted proxies (the subscription
// limit per address); and with the webhook allow-list.
func notifierHTTP(cfg Config, nc notifier.Config) notifier.Config {
	nc.WebhookAllow = cfg.WebhookAllow
	nc.IsAdmin = func(r *http.Request) bool { return principal(r).May(auth.Admin) }
	proxies, _ := parseTrustedProxies(cfg.TrustedProxies) // Validate refused bad ones
	nc.ClientIP = func(remoteAddr string, header map[string][]string) string {
		return proxies.clientIP(&http.Request{RemoteAddr: remoteAddr, Header: header})
	}
	return nc
}

// notifierRoutes are the notifier's routes (its handlers, our access rules).
// They are part of routeTable; kept apart only because they exist only when
// the notifier runs. The JSON routes return their errors like ours; the
// pages linked from emails (confirm, unsubscribe, preferences) answer in
// HTML themselves.
func (s *Server) notifierRoutes() []route {
	n := s.notifier
	if n == nil {
		return nil
	}
	return []route{
		{"POST /api/v1/groups", auth.Admin, n.HandleCreateGroup},
		{"GET /api/v1/groups", auth.Viewer, n.HandleListGroups},
		{"DELETE /api/v1/groups/{name}", auth.Admin, n.HandleDeleteGroup},
		{"POST /api/v1/subscriptions", auth.Public, n.HandleSubscribe}, // rate-limited by the notifier
		{"GET /api/v1/subscriptions", auth.Admin, n.HandleListSubscriptions},
		{"GET /api/v1/outbox", auth.Admin, n.HandleListOutbox},
		{"GET /subscribe/confirm", auth.Public, httpjson.Plain(n.HandleConfirm)},
		{"GET /unsubscribe", auth.Public, httpjson.Plain(n.HandleUnsubscribe)},
		{"POST /unsubscribe", auth.Public, httpjson.Plain(n.HandleUnsubscribe)}, // RFC 8058 one-click
		{"GET /preferences", auth.Public, httpjson.Plain(n.HandlePreferences)},  // signed token in the link
		{"POST /preferences", auth.Public, httpjson.Plain(n.HandlePreferences)},
	}
}
