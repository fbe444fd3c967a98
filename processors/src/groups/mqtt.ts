/** The mqtt group of the standard library: its processors and controller services, registered by ../index.ts. */
import type { AnyProcessorDefinition, AnyServiceDefinition } from '@sluice/api';
import { ConsumeMQTT } from '../consume-mqtt/index.ts';
import { EmbeddedMQTTBroker } from '../embedded-mqtt-broker/index.ts';
import { MQTTBrokerConnection } from '../mqtt-broker-connection/index.ts';
import { PublishMQTT } from '../publish-mqtt/index.ts';

export const processors: readonly AnyProcessorDefinition[] = [ConsumeMQTT, PublishMQTT];
export const services: readonly AnyServiceDefinition[] = [MQTTBrokerConnection, EmbeddedMQTTBroker];
