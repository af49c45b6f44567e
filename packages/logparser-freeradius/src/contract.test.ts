import { logParserContract } from '@rgz/core/testing';
import { samples } from './fixtures/samples.js';
import { createFreeradiusParser } from './parser.js';

logParserContract('freeradius', () => ({ parser: createFreeradiusParser(), samples }));
