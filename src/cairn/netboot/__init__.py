"""Network boot from the frontend: boot actions, the DHCP and PXE configuration
made from the database (`config`), and the dnsmasq that serves it (`dnsmasq`)."""
