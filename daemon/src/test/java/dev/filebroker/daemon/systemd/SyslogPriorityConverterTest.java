package dev.filebroker.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import org.junit.jupiter.api.Test;

class SyslogPriorityConverterTest {
  @Test
  void mapsLevelsToSyslogPriorities() {
    assertEquals("<3>", SyslogPriorityConverter.prefix(Level.ERROR));
    assertEquals("<4>", SyslogPriorityConverter.prefix(Level.WARN));
    assertEquals("<6>", SyslogPriorityConverter.prefix(Level.INFO));
    assertEquals("<7>", SyslogPriorityConverter.prefix(Level.DEBUG));
    assertEquals("<7>", SyslogPriorityConverter.prefix(Level.TRACE));
  }
}
