/**
 * The Java client of the filebroker daemon: {@link dev.filebroker.client.FileBroker} connects,
 * {@link dev.filebroker.client.FileBroker#open} asks for a file, and the returned {@link
 * dev.filebroker.client.BrokeredFile} owns the descriptor the daemon passed. Linux only.
 */
package dev.filebroker.client;
