#!/bin/bash
#
# Rocks 6.2's tests/t6001-kvm-dump-set.sh, line for line with `rocks`
# replaced by `cairn`. Only the set-up differs: this machine is not a Rocks
# frontend, so its host entry (localhost) is made a VM container first and
# reached through libvirt's in-process test driver.
#

test_description='Test kvm dump set commands (restore)

Test cairn set host vm, cairn dump host vm commands
'

pushd `dirname $0` > /dev/null
export TEST_DIRECTORY=`pwd`
popd > /dev/null
. $TEST_DIRECTORY/test-lib.sh

# set-up (not in Rocks' script): localhost may run VMs, through the test driver
cairn set host attr localhost kvm true &&
cairn set host attr localhost kvm_connection test:///default || exit 1


test_expect_success 'test KVM - steup test hosts (add host vm)' '
	cairn add host vm localhost compute name=test-host-1 num-macs=2
'

test_expect_success 'test KVM - test dump and set host cmd' '
	cairn dump host vm test-host-1 > dump &&
	cairn remove host vm test-host-1 &&
	bash dump &&
	cairn list host vm test-host-1 > temp_out &&
	test_line_count = 3 temp_out
'


test_expect_success 'test KVM - set host vm' '
	cairn set host vm test-host-1 mem=5535 &&
	cairn list host vm test-host-1 | grep 5535 > output &&
	test_line_count = 1 output &&
	test `awk "{print \\$2}" output` = 5535 &&
	cairn set host vm test-host-1 \
disk="file:/kvm/disks/test-host-1-0.vda,vda,virtio file:/kvm/disks/test-host-1-1.vda,vda,virtio" \
	disksize="67 28" &&
	cairn list host vm test-host-1 showdisks=1 > output &&
	test_line_count = 3 output &&
	grep "test-host-1-0.vda.*67" output &&
	grep "test-host-1-1.vda.*28" output
'
test_expect_success 'test KVM - set host vm cdrom' '
	cairn set host vm cdrom test-host-1 cdrom=/tmp/setup.iso &&
	cairn list host vm test-host-1 showdisks=1 > output &&
	grep /tmp/setup.iso output
'

test_expect_success 'test KVM - teardown test hosts (remove host)' '
	cairn remove host test-host-1 
'

test_done
