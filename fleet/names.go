package fleet

import "fmt"

// The JetStream domains, streams and subjects the fleet uses. A domain
// keeps each server's JetStream its own across the leaf-node links, so the
// hub's streams are reached as "$JS.postern-hub.API…" from a reader.
const (
	HubDomain = "postern-hub"

	policyStream  = "POLICY"
	policySubject = "policy.>"

	eventStream = "EVENTS"
	// ingestConsumer is the hub's consumer that writes events to its
	// database.
	ingestConsumer = "ingest"

	statusSubject = "fleet.status" // + ".<reader id>"
	enrolSubject  = "fleet.enrol"  // + ".<reader id>"

	// epochHeader carries the policy stream's creation time, so a reader
	// can tell a stream recreated on the hub from the one it followed.
	epochHeader = "Postern-Epoch"
)

// readerDomain is reader id's JetStream domain.
func readerDomain(id int64) string { return fmt.Sprintf("postern-r%d", id) }

// eventSubject is what reader id publishes its events on.
func eventSubject(id int64) string { return fmt.Sprintf("events.r%d", id) }

// policyEntitySubject is the subject of one entity's records.
func policyEntitySubject(entity, key string) string { return "policy." + entity + "." + key }
