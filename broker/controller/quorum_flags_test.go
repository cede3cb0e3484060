package controller_test

import (
	"strings"
	"testing"

	"github.com/loglab/loglab/broker/controller"
)

func TestParseQuorum(t *testing.T) {
	const voters = "1@a:9093,2@b:9093,3@[::1]:9093"
	q, err := controller.ParseQuorum(2, "", "b:9093", voters)
	if err != nil || strings.Join(q.Controllers, ",") != "a:9093,b:9093,[::1]:9093" || q.Voter == nil || q.Voter.ID != 2 || len(q.Voter.Voters) != 3 {
		t.Fatalf("combined mode: %+v %v", q, err)
	}
	q, err = controller.ParseQuorum(4, "a:9093, b:9093", "", "")
	if err != nil || strings.Join(q.Controllers, ",") != "a:9093,b:9093" || q.Voter != nil {
		t.Fatalf("broker only: %+v %v", q, err)
	}
	if q, err := controller.ParseQuorum(0, "", "", ""); err != nil || len(q.Controllers) != 0 || q.Voter != nil {
		t.Fatalf("standalone: %+v %v", q, err)
	}
	for _, bad := range []struct {
		node                              int32
		controllers, listen, voters, want string
	}{
		{1, "", "", "x@a:1", "want id@host:port"},
		{1, "", "", "0@a:1", "ids >= 1"},
		{1, "", "", "1@a:1,1@b:1", "id 1 twice"},
		{1, "", "", "1@a", "want HOST:PORT"},
		{1, "", "", "1@a:99999", "bad port"},
		{1, "a", "", "", "--controllers"},
		{1, "", "a:1", "", "needs --voters"},
		{4, "", "a:9093", voters, "is not among --voters"},
		{1, "", "z:9093", voters, "gives voter 1 the address a:9093"},
		{0, "a:1", "", "", "--node-id must be at least 1"},
		{1, "", "", "1@::1:9093", "want HOST:PORT"},
	} {
		if _, err := controller.ParseQuorum(bad.node, bad.controllers, bad.listen, bad.voters); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseQuorum(%d, %q, %q, %q) = %v, want an error with %q", bad.node, bad.controllers, bad.listen, bad.voters, err, bad.want)
		}
	}
}
