package store

import (
	"context"
	"testing"
)

// TestMigrationToEnrollRequests (both engines): a re-enrolment pending in
// the host's columns (schema 17) becomes a request with an id, listed,
// approvable by that id, its key the host's once approved.
func TestMigrationToEnrollRequests(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	db := openAtSchema(t, database, dir, 17)
	if _, err := db.Exec(`INSERT INTO hosts (id, uid, install_id, hostname, info, node_key_hash, enrolled_at,
		pending_key_hash, pending_info, pending_at, pending_from)
		VALUES (1, 'u1', 'i1', 'web1', '{}', 'k', 1, ?, '{"install_id":"i1","hostname":"web1-new"}', 5, '192.0.2.7')`,
		HashSecret("ewn_pending")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := OpenDatabase(ctx, database, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.PendingEnrollments(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "enr_u1" || list[0].HostID != "u1" || list[0].Hostname != "web1-new" || list[0].From != "192.0.2.7" {
		t.Fatalf("pending after the migration = %+v, %v; want the request, id enr_u1", list, err)
	}
	if err := st.ApproveEnrollment(ctx, "u1", "enr_u1"); err != nil {
		t.Fatal(err)
	}
	if h, err := st.HostByNodeKey(ctx, "ewn_pending"); err != nil || h.UID != "u1" || h.Hostname != "web1-new" {
		t.Errorf("the migrated request's key after approval: %+v, %v", h, err)
	}
}
