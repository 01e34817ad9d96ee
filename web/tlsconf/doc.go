// Package tlsconf makes the certificates Postern serves over HTTPS: from an
// ACME CA (autocert), from files someone else renews (reloaded when they
// change), or self-signed and kept in the data folder.
package tlsconf
