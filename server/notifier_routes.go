package server

// notifierRoutes are the notifier's routes (its handlers, our access rules).
// They are part of routeTable; kept apart only because they exist only when
// the notifier runs.
func (s *Server) notifierRoutes() []route {
	n := s.notifier
	if n == nil {
		return nil
	}
	return []route{
		{"POST /api/v1/groups", accessAdmin, n.HandleCreateGroup},
		{"GET /api/v1/groups", accessViewer, n.HandleListGroups},
		{"DELETE /api/v1/groups/{name}", accessAdmin, n.HandleDeleteGroup},
		{"POST /api/v1/subscriptions", accessPublic, n.HandleSubscribe}, // rate-limited by the notifier
		{"GET /api/v1/subscriptions", accessAdmin, n.HandleListSubscriptions},
		{"GET /api/v1/outbox", accessAdmin, n.HandleListOutbox},
		{"GET /subscribe/confirm", accessPublic, n.HandleConfirm},
		{"GET /unsubscribe", accessPublic, n.HandleUnsubscribe},
		{"POST /unsubscribe", accessPublic, n.HandleUnsubscribe}, // RFC 8058 one-click
		{"GET /preferences", accessPublic, n.HandlePreferences},  // signed token in the link
		{"POST /preferences", accessPublic, n.HandlePreferences},
	}
}
