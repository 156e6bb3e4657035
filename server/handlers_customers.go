package server

import (
	"net/http"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/service"
)

// handleCreateCustomer creates a customer; the answer carries its enroll
// secret, shown this once.
func (s *Server) handleCreateCustomer(w http.ResponseWriter, r *http.Request) error {
	var spec api.CustomerSpec
	if err := httpjson.Decode(w, r, maxJSONBody, &spec); err != nil {
		return err
	}
	c, err := s.svc.CreateCustomer(r.Context(), spec)
	if err != nil {
		return err
	}
	w.Header().Set("Location", api.PathCustomers+"/"+c.ID)
	httpjson.Write(w, http.StatusCreated, c)
	return nil
}

// handleCustomers lists the customers with their contracts' state today.
func (s *Server) handleCustomers(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.svc.Customers(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"customers": cs})
	return nil
}

// handleCustomer shows one customer, by id or name.
func (s *Server) handleCustomer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, c)
	return nil
}

// handleUpdateCustomer changes the fields present in the body.
func (s *Server) handleUpdateCustomer(w http.ResponseWriter, r *http.Request) error {
	var p api.CustomerPatch
	if err := httpjson.Decode(w, r, maxJSONBody, &p); err != nil {
		return err
	}
	c, err := s.svc.UpdateCustomer(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, c)
	return nil
}

// handleDeleteCustomer deletes a customer; one with hosts only with
// ?force=true, which detaches them.
func (s *Server) handleDeleteCustomer(w http.ResponseWriter, r *http.Request) error {
	force := false
	switch v := r.URL.Query().Get("force"); v {
	case "", "false", "0":
	case "true", "1":
		force = true
	default:
		return fault.Invalidf("force", "force %q: want true or false", v)
	}
	c, n, err := s.svc.DeleteCustomer(r.Context(), r.PathValue("id"), force)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"deleted": true, "id": c.ID, "name": c.Name, "detached_hosts": n})
	return nil
}

// handleTicketCheck answers whether support takes a ticket, when work
// starts, who takes it and why.
func (s *Server) handleTicketCheck(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	a, err := s.svc.TicketCheck(r.Context(), service.TicketQuery{Customer: q.Get("customer"), Host: q.Get("host"),
		Product: q.Get("product"), Version: q.Get("version"), Severity: q.Get("severity"), At: q.Get("at")})
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, a)
	return nil
}
