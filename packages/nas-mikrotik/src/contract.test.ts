import { nasVendorContract } from '@rgz/core/testing';
import { createMikrotikVendor } from './dialect.js';

nasVendorContract('mikrotik', () => createMikrotikVendor());
