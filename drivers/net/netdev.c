#include "drivers/net/netdev.h"

#include <stdio.h>
#include <string.h>

#include "drivers/console.h"

static struct netdev *nics[NETDEV_MAX];
static unsigned nnics;

int netdev_register(struct netdev *d)
{
	if (nnics == NETDEV_MAX) {
		kprintf("pgvisor: nic: not used, pgvisor drives at most %u NICs\n", NETDEV_MAX);
		return -1;
	}
	snprintf(d->name, sizeof(d->name), "nic%u", nnics);
	nics[nnics++] = d;
	kprintf("pgvisor: nic %s: MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s\n", d->name, d->mac[0],
		d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5],
		netdev_link_up(d) ? "up" : "down");
	return 0;
}

unsigned netdev_count(void)
{
	return nnics;
}

struct netdev *netdev_get(unsigned i)
{
	return i < nnics ? nics[i] : NULL;
}

struct netdev *netdev_find(const char *name)
{
	for (unsigned i = 0; i < nnics; i++)
		if (!strcmp(nics[i]->name, name))
			return nics[i];
	return NULL;
}

int netdev_transmit(struct netdev *d, const void *frame, size_t len)
{
	int r;

	spin_lock(&d->tx_lock);
	r = d->ops->transmit(d, frame, len);
	spin_unlock(&d->tx_lock);
	return r;
}

size_t netdev_receive(struct netdev *d, void *buf, size_t cap)
{
	size_t n;

	spin_lock(&d->rx_lock);
	n = d->ops->receive(d, buf, cap);
	spin_unlock(&d->rx_lock);
	return n;
}

bool netdev_link_up(struct netdev *d)
{
	return d->ops->link_up(d);
}

/* Both rings are quiet meanwhile: nothing is half sent or half taken. */
int netdev_set_loopback(struct netdev *d, bool on)
{
	int r;

	spin_lock(&d->tx_lock);
	spin_lock(&d->rx_lock);
	r = d->ops->set_loopback(d, on);
	spin_unlock(&d->rx_lock);
	spin_unlock(&d->tx_lock);
	return r;
}
