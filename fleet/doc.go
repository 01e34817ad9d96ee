// Package fleet runs remote readers: small boards at doors that keep
// deciding from their own copy of the policy when the link to the site's
// appliance is down. It is built on embedded NATS JetStream rather than a
// replication protocol of its own.
//
// The appliance is the hub (Hub): it embeds a NATS server with JetStream in
// its own domain and a TLS leaf-node listener that readers dial with the
// credentials it issued at enrolment. A remote reader (Node) embeds a
// leaf-node server in a domain of its own.
//
// Policy flows hub to readers: every change to what a decision reads is
// queued in the hub's database in the change's own transaction, and
// published with the queue row's id as Nats-Msg-Id to the POLICY stream,
// which keeps each entity's latest record (deletions as tombstones). A
// reader applies each record to the same tables in its own database, in
// one transaction with the stream sequence, and catches up from that
// sequence directly each time its link comes back.
//
// Events flow readers to hub: a decision is appended to the reader's own
// database first (durable before the door opens) with a unique id, then
// published with that id as Nats-Msg-Id to the reader's event stream; the
// hub's EVENTS stream sources every reader's, and the hub stores each
// event once, by its id.
package fleet
