"""Network boot from the frontend: boot actions, the DHCP and PXE configuration
made from the database (`config`, `ipxe`), the dnsmasq that serves it
(`dnsmasq`) and the boot HTTP server iPXE clients load from (`httpd`)."""
